{
  "targets": [
    {
      "target_name": "framemind_libav",
      "sources": ["src/framemind_libav.c"],
      "cflags": ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "<!@(pkg-config --cflags libavformat libavcodec libswscale libavutil)"],
      "libraries": ["<!@(pkg-config --libs libavformat libavcodec libswscale libavutil)"]
    }
  ]
}
