/** Saving and checking pipeline specs as written (YAML). */

import { send, type Schemas } from "../api/client";

export const CHECK_URL = "/api/v1/pipelines/check";

/** Save a pipeline spec as written: the next version of the name it gives. */
export function savePipeline(text: string): Promise<Schemas["PipelineDetail"]> {
  return send<Schemas["PipelineDetail"]>("POST", "/api/v1/pipelines", text, "application/yaml");
}
