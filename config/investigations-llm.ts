/**
 * `investigations.llm` in `conveyor.config.yml` (docs/investigations.md, "Optional LLM narrative"): an
 * OpenAI-compatible chat-completions endpoint that may add a narrative summary and extra hypotheses to an incident's
 * report. It never decides a verdict, and without this section investigations work exactly the same.
 *
 * ```yaml
 * investigations:
 *   llm:
 *     url: http://127.0.0.1:11434/v1     # the API base: Conveyor POSTs <url>/chat/completions
 *     model: llama3.1
 *     api_key_env: CONVEYOR_LLM_API_KEY  # the name of the worker's variable holding the key, never the key
 *     timeout_seconds: 30
 * ```
 */
import { z } from 'zod';

export const investigationLlmSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL, e.g. http://127.0.0.1:11434/v1' })
      .meta({ description: 'API base URL of an OpenAI-compatible server; requests go to <url>/chat/completions.' }),
    model: z.string().min(1).meta({ description: 'The model name sent with each request.' }),
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name, not the key itself' })
      .optional()
      .meta({
        description: "Environment variable of the worker holding the API key (sent as 'Bearer'); none: no auth.",
      }),
    timeout_seconds: z
      .number()
      .int()
      .min(1)
      .max(300)
      .default(30)
      .meta({ description: 'How long one request may take before it counts as failed (seconds, 1–300).' }),
  })
  .meta({ description: 'Optional LLM narrative for incident reports (never decides a verdict).' });

/** The validated `investigations.llm` section. */
export type InvestigationLlmSettings = z.output<typeof investigationLlmSchema>;
