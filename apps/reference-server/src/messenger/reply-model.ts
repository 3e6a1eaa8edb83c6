import type { FetchLike } from '@callbridge/messenger-contract';

/** One turn of the conversation handed to the model. */
export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** Port: writes the reply to a conversation under a system prompt (the persona). */
export interface ReplyModel {
  reply(request: { system: string; turns: readonly ChatTurn[]; signal?: AbortSignal }): Promise<string>;
}

/** The seed's generation parameters ("Текущие параметры генерации"). */
export const GENERATION_PARAMETERS = {
  temperature: 0.7,
  top_p: 0.9,
  frequency_penalty: 0.2,
  presence_penalty: 0.05,
  max_tokens: 260,
} as const;

/** A failed completion call; the message never contains the API key or the conversation. */
export class ReplyModelError extends Error {
  constructor(
    readonly code: 'llm_timeout' | 'llm_unavailable' | 'llm_refused' | 'llm_bad_response',
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ReplyModelError';
  }
}

export interface OpenAiChatOptions {
  /** e.g. `https://api.openai.com/v1` or any OpenAI-compatible server; `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  apiKey: string;
  timeoutMs: number;
  /** Default globalThis.fetch (msw intercepts it in tests). */
  fetch?: FetchLike;
}

/** {@link ReplyModel} over the OpenAI-compatible `POST /chat/completions`. */
export function createOpenAiChatModel(options: OpenAiChatOptions): ReplyModel {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const url = `${options.baseUrl}/chat/completions`;
  return {
    async reply({ system, turns, signal }) {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.apiKey}` },
          body: JSON.stringify({
            model: options.model,
            messages: [{ role: 'system', content: system }, ...turns],
            ...GENERATION_PARAMETERS,
          }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
      } catch (error) {
        if (timeout.aborted) throw new ReplyModelError('llm_timeout', `no answer within ${options.timeoutMs} ms`);
        throw new ReplyModelError('llm_unavailable', `chat completions unreachable (${(error as Error).name})`);
      }
      if (!res.ok) {
        await res.text().catch(() => ''); // drained, never logged (it may echo the request)
        const code = res.status === 429 || res.status >= 500 ? 'llm_unavailable' : 'llm_refused';
        throw new ReplyModelError(code, `chat completions answered HTTP ${res.status}`, res.status);
      }
      const body = (await res.json().catch(() => undefined)) as
        | { choices?: { message?: { content?: unknown } }[] }
        | undefined;
      const content = body?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') {
        throw new ReplyModelError('llm_bad_response', 'chat completions answered without choices[0].message.content');
      }
      return content.trim();
    },
  };
}
