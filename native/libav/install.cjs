// Builds the addon with node-gyp (bundled with npm). Node's headers are taken from next to the
// running node when they are there, so the build needs no download; otherwise node-gyp's own
// rules apply (npm_config_nodedir, or its header download). A failed build fails this optional
// package only: FrameMind then decodes through the ffmpeg CLI.
"use strict";
const { spawnSync } = require("node:child_process");
const { existsSync } = require("node:fs");
const { dirname, join } = require("node:path");

const env = { ...process.env };
const prefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(prefix, "include", "node", "node_api.h"))) env.npm_config_nodedir = prefix;
if (spawnSync("pkg-config", ["--exists", "libavformat", "libavcodec", "libswscale", "libavutil"], { stdio: "ignore" }).status !== 0) {
  console.error("framemind-libav: pkg-config or the libav -dev packages are missing (Debian: apt-get install libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config); skipping the in-process decoder");
  process.exit(1);
}
// npm sets npm_config_node_gyp to its bundled node-gyp; run by hand, npm's copy next to node.
const bundled = join(prefix, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
const gyp = env.npm_config_node_gyp || (existsSync(bundled) ? bundled : undefined);
const r = gyp ? spawnSync(process.execPath, [gyp, "rebuild"], { stdio: "inherit", env }) : spawnSync("node-gyp", ["rebuild"], { stdio: "inherit", env });
if (r.error) console.error(`framemind-libav: cannot run node-gyp: ${r.error.message}`);
process.exit(r.status ?? 1);
