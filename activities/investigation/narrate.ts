/**
 * The optional LLM narrative of an investigation (docs/investigations.md, "Optional LLM narrative"): one request to
 * an OpenAI-compatible chat-completions endpoint (`POST <url>/chat/completions`, Bearer auth, the answer in
 * `choices[0].message.content`) carrying only the incident's redacted facts, bounded in size. Transient failures are
 * retried by Temporal (`NarrativeUnavailableError`); a refusal or an unusable answer is not (`NarrativeRefusedError`).
 * Without `investigations.llm` in the configuration it does nothing.
 */
import type { InvestigationLlmSettings } from '../../config/investigations-llm';
import type { FailureFrame, Hypothesis } from '../../investigate/incident';
import {
  NarrativeAnswerError,
  narrativeFacts,
  narrativeMessages,
  parseNarrativeAnswer,
  weighSuggestions,
  type IncidentNarrative,
} from '../../investigate/narrative';
import { problemMarkdown } from '../../investigate/reports';
import { loadConfig } from '../../workers/config';
import { NarrativeRefusedError, NarrativeUnavailableError, toApplicationFailure } from '../errors';
import type { ArtifactStore } from '../store/store';
import { narrativeKey } from './records';

/** What the narrative activity needs. */
export interface NarrativeActivityDeps {
  store: ArtifactStore;
  /** The `investigations.llm` section (default: conveyor.config.yml's, re-read per incident). */
  llm?: () => InvestigationLlmSettings | undefined;
  /** Where `api_key_env` is looked up (default: the worker's environment). */
  env?: NodeJS.ProcessEnv;
}

/** The input of `narrateIncident`: the incident, its framed facts and the checked hypotheses. */
export interface NarrateRequest {
  incidentId: string;
  frame: FailureFrame;
  hypotheses: Hypothesis[];
}

/** The endpoint as messages name it: no credentials, no query. */
function endpointName(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** Sends the request and returns the parsed response body; throws the error class its failure belongs to. */
async function complete(
  settings: InvestigationLlmSettings,
  env: NodeJS.ProcessEnv,
  body: object,
): Promise<{ endpoint: string; answer: unknown }> {
  const url = new URL(`${settings.url.replace(/\/+$/, '')}/chat/completions`);
  const endpoint = endpointName(url);
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (settings.api_key_env) {
    const key = env[settings.api_key_env];
    if (!key) {
      throw new NarrativeRefusedError(
        `the environment variable ${settings.api_key_env} (investigations.llm.api_key_env) is not set on the worker`,
      );
    }
    headers.authorization = `Bearer ${key}`;
  }
  let text: string;
  let status: number;
  try {
    // One deadline for the whole exchange, body included.
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(settings.timeout_seconds * 1000),
    });
    status = response.status;
    text = await response.text();
    if (!response.ok) {
      const why = `${endpoint} answered ${response.status} ${response.statusText}`.trim();
      if (status >= 500 || status === 429) throw new NarrativeUnavailableError(why, { status });
      throw new NarrativeRefusedError(why, { status });
    }
  } catch (error) {
    if (error instanceof NarrativeUnavailableError || error instanceof NarrativeRefusedError) throw error;
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new NarrativeUnavailableError(
        `${endpoint} did not answer within ${settings.timeout_seconds} s (investigations.llm.timeout_seconds)`,
      );
    }
    const code = ((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message) || 'unknown error';
    throw new NarrativeUnavailableError(`cannot reach ${endpoint}: ${code}`);
  }
  try {
    return { endpoint, answer: JSON.parse(text) };
  } catch {
    throw new NarrativeRefusedError(
      `${endpoint} answered ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 60))}`,
    );
  }
}

/** Creates the narrative activity. */
export function createNarrativeActivities(deps: NarrativeActivityDeps) {
  const settingsOf = deps.llm ?? (() => loadConfig().file.investigations?.llm);
  const env = deps.env ?? process.env;
  return {
    /**
     * Asks the configured endpoint for a narrative of the incident; `{}` when none is configured. The exchange is
     * stored beside the incident's evidence. Failures are thrown for Temporal to retry or give up on.
     */
    async narrateIncident(request: NarrateRequest): Promise<{ narrative?: IncidentNarrative }> {
      const settings = settingsOf();
      if (!settings) return {};
      try {
        const facts = narrativeFacts(problemMarkdown(request.incidentId, request.frame), request.hypotheses);
        const messages = narrativeMessages(facts, request.frame);
        const { endpoint, answer } = await complete(settings, env, { model: settings.model, messages, temperature: 0 });
        let parsed;
        try {
          parsed = parseNarrativeAnswer(answer);
        } catch (error) {
          if (error instanceof NarrativeAnswerError) throw new NarrativeRefusedError(`${endpoint}: ${error.message}`);
          throw error;
        }
        const narrative: IncidentNarrative = {
          model: settings.model,
          summary: parsed.summary,
          hypotheses: weighSuggestions(parsed.hypotheses, request.hypotheses, request.frame),
        };
        await deps.store.putRecord(narrativeKey(request.incidentId), { endpoint, messages, answer, narrative });
        return { narrative };
      } catch (error) {
        throw toApplicationFailure(error);
      }
    },
  };
}

/** The narrative activity's type, for the workflow's proxy. */
export type NarrativeActivities = ReturnType<typeof createNarrativeActivities>;
