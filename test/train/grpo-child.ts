/** Child process for the hard-kill resume test: runs (or resumes) a GRPO run from a raw config file. */
import { readFileSync } from "node:fs";
import { parseGrpoConfig, runGrpo } from "../../src/train/grpo.js";

const [configFile, resume] = process.argv.slice(2);
const config = parseGrpoConfig(JSON.parse(readFileSync(configFile!, "utf8")));
await runGrpo({ config, ...(resume ? { resume } : {}) });
