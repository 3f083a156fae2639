// Loads the compiled addon; throws when it was not built (the caller falls back to the ffmpeg CLI).
"use strict";
module.exports = require("./build/Release/framemind_libav.node");
