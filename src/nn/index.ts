// Public API of the embedded-model engine.
export { Graph, Tensor, type DType, type Dim, type Attrs, type Node, type Operand } from './graph.js';
export { OPS, sumTo, type OpDef, type GradRule, type EmitCtx } from './ops.js';
export { gradients } from './autodiff.js';
export { exportOnnx, OPSET, type ExportSpec } from './onnx.js';
export { Session, f32, i32, type TensorValue, type SessionOptions, type FeedDType, type FeedData } from './runtime.js';
export { AdamW, globalNorm, lrAt, type AdamWOptions, type AdamWState, type AdamStepInfo, type ScheduleOptions } from './adam.js';
export { hashString, Rng, type RngState } from './rng.js';
export {
  saveCheckpoint,
  loadCheckpoint,
  encodeSafetensors,
  decodeSafetensors,
  writeSafetensors,
  readSafetensors,
  writeFileAtomic,
  validateTensors,
  CheckpointMismatchError,
  type Checkpoint,
  type NamedTensor,
  type TensorMap,
} from './checkpoint.js';
export {
  TransformerConfigSchema,
  parseTransformerConfig,
  paramSpecs,
  countParams,
  noDecayParams,
  initParams,
  addMotion,
  addStem,
  growLayers,
  addVocabRows,
  buildTrainGraph,
  buildForwardGraph,
  timeFrequencies,
  DEFAULT_GRPO,
  type TransformerConfig,
  type TransformerConfigInput,
  type ParamSpec,
  type ParamStore,
  type LossType,
  type GrpoLossOptions,
  type BuiltGraph,
} from './transformer.js';
export {
  TransformerModel,
  sampleToken,
  nucleusMask,
  packSequences,
  GUIDE_BIAS,
  type PackRow,
  type SequenceBatch,
  type SftBatch,
  type GrpoBatch,
  type StepResult,
  type PromptItem,
  type GenerateOptions,
  type GenerateResult,
} from './model.js';
