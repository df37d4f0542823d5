/** Ready-made calls of a pipeline as a web service, with the caller's own inputs filled in as placeholders. */

import type { Schemas } from "../api/client";

type Interface = Schemas["PipelineInterface"];

function exampleBody(face: Interface): { params: Record<string, unknown>; inputs: Record<string, unknown> } {
  const params: Record<string, unknown> = {};
  const properties = (face.params as { properties?: Record<string, { default?: unknown; type?: string }> }).properties ?? {};
  for (const [name, schema] of Object.entries(properties)) {
    params[name] = schema.default ?? (schema.type === "number" || schema.type === "integer" ? 0 : "…");
  }
  const inputs: Record<string, unknown> = {};
  for (const [name, input] of Object.entries(face.inputs)) {
    if (input.kind === "table") inputs[name] = { dataset: "<dataset id>" };
    if (input.kind === "value") inputs[name] = "<value>";
  }
  return { params, inputs };
}

export function curlSnippet(origin: string, face: Interface): string {
  const url = `${origin}/api/v1/pipelines/${face.pipeline}/runs`;
  const body = exampleBody(face);
  const files = Object.entries(face.inputs).filter(([, input]) => input.kind === "file");
  if (files.length) {
    const parts = [
      `  -F 'params=${JSON.stringify(body.params)}'`,
      `  -F 'inputs=${JSON.stringify(body.inputs)}'`,
      ...files.map(([name]) => `  -F '${name}=@path/to/${name}'`),
    ];
    return [`curl -X POST '${url}' \\`, `  -H "Authorization: Bearer $DATAMILL_TOKEN" \\`, parts.join(" \\\n")].join("\n");
  }
  return [
    `curl -X POST '${url}' \\`,
    `  -H "Authorization: Bearer $DATAMILL_TOKEN" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '${JSON.stringify(body)}'`,
    "",
    "# then follow the run it returns:",
    `curl -H "Authorization: Bearer $DATAMILL_TOKEN" '${origin}/api/v1/runs/<run_id>'`,
  ].join("\n");
}

export function pythonSnippet(origin: string, face: Interface): string {
  const body = exampleBody(face);
  const files = Object.entries(face.inputs).filter(([, input]) => input.kind === "file");
  const lines = [
    "import os, time, json",
    "import httpx",
    "",
    `api = httpx.Client(base_url="${origin}/api/v1",`,
    '                   headers={"Authorization": f"Bearer {os.environ[\'DATAMILL_TOKEN\']}"})',
  ];
  if (files.length) {
    lines.push(
      `files = {${files.map(([name]) => `"${name}": open("path/to/${name}", "rb")`).join(", ")}}`,
      `data = {"params": ${JSON.stringify(JSON.stringify(body.params))}, "inputs": ${JSON.stringify(JSON.stringify(body.inputs))}}`,
      `run = api.post("/pipelines/${face.pipeline}/runs", data=data, files=files).raise_for_status().json()`,
    );
  } else {
    lines.push(
      `body = json.loads(${JSON.stringify(JSON.stringify(body))})`,
      `run = api.post("/pipelines/${face.pipeline}/runs", json=body).raise_for_status().json()`,
    );
  }
  lines.push(
    'while (state := api.get(f"/runs/{run[\'run_id\']}").json())["state"] in ("queued", "running"):',
    "    time.sleep(1)",
    'print(state["state"], state["outputs"])',
  );
  return lines.join("\n");
}
