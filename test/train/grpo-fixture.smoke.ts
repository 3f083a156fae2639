import { grpoFixture } from "./grpo-fixture.js";
const t0 = Date.now();
console.log(await grpoFixture(), (Date.now() - t0) / 1000);
