import { HOST_PATHS } from '../plan/host-paths.js';
import { shellFile } from './sh/template.js';
import type { Step } from './step.js';

/**
 * The runner (sh/firstboot.sh): runs the host's steps in order, resumes after the last one done,
 * and writes `running: <step>`, `ok` or `failed: <step>: <reason>` to the status file. The same
 * for every host, so a baked image carries it.
 */
export const RUNNER: Step = {
  name: 'firstboot',
  purpose: 'First boot: runs the kubebake steps in order, resumes after the last one done, records the outcome.',
  helpers: [],
  body: shellFile('firstboot.sh', {
    STATUS: HOST_PATHS.status,
    STEPS_DONE: HOST_PATHS.stepsDone,
    LOG: HOST_PATHS.log,
    STATE_DIR: HOST_PATHS.stateDir,
    LIBRARY: HOST_PATHS.library,
    SCRIPT_DIR: HOST_PATHS.scriptDir,
    STEP_LIST: HOST_PATHS.stepList,
  }),
};
