import {
  type IncomingMessage,
  InvalidTargetError,
  resolveTarget,
  type TransportMessage,
} from '@callbridge/messenger-contract';
import type { Logger } from 'pino';
import type { ContactStore, InboundLink } from './contacts.js';
import type { Outbox } from './outbox.js';
import { type PersonaStore, personaValuesOf, renderPersona } from './persona.js';
import type { ChatTurn, ReplyModel } from './reply-model.js';
import type { MessengerStore } from './store.js';

/** How many messages of the lead's conversation the model sees (the inbound one included). */
const HISTORY = 12;

/** The per-tenant switch (seed: `behavior.auto_reply` / `behavior.auto_reply_enabled` in the tenant settings). */
export function autoReplyEnabled(settings: Record<string, unknown>): boolean {
  const behavior = settings.behavior;
  if (!behavior || typeof behavior !== 'object') return false;
  const b = behavior as Record<string, unknown>;
  return b.auto_reply_enabled === true || (b.auto_reply_enabled === undefined && b.auto_reply === true);
}

export interface AutoReplier {
  /** Whether a model is configured at all (OPENAI_API_KEY + OPENAI_MODEL). */
  readonly configured: boolean;
  /** Answers an inbound message in the background when the tenant's switch is on; never throws. */
  handle(message: IncomingMessage, link: InboundLink): void;
  /** Resolves when no reply is being prepared (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Where the reply goes on the message's channel: the sender's phone / JID, Telegram peer, Avito chat. */
function replyAddress(message: IncomingMessage): string | undefined {
  switch (message.channel) {
    case 'whatsapp':
      return message.from ?? message.from_jid;
    case 'telegram':
      return message.peer ?? message.telegram_user_id ?? message.username;
    case 'avito':
      return message.chat_id ?? message.peer;
  }
}

/**
 * The hub's auto-reply: persona (tenant override or default, rendered for the channel) as the system prompt, the
 * lead's recent conversation as turns, the model's answer sent through the same {@link Outbox} as `/send` (guards,
 * lead check, idempotency with `client_msg_id = auto:<message_id>`). Off unless a model is configured and the
 * tenant's switch is on.
 */
export function createAutoReplier(deps: {
  model: ReplyModel | undefined;
  store: MessengerStore;
  contacts: ContactStore;
  personas: PersonaStore;
  outbox: Outbox;
  logger: Logger;
}): AutoReplier {
  const { logger } = deps;
  const running = new Set<Promise<void>>();
  const stop = new AbortController();

  async function answer(message: IncomingMessage, link: InboundLink, model: ReplyModel): Promise<void> {
    const settings = await deps.store.getSettings(message.tenant);
    if (!autoReplyEnabled(settings)) return;
    const to = replyAddress(message);
    if (to === undefined) return;
    const { template } = await deps.personas.effective(message.tenant);
    const system = renderPersona(template, personaValuesOf(settings), message.channel);
    const history = await deps.contacts.recentMessages(message.tenant, link.leadId, HISTORY);
    const turns: ChatTurn[] = history
      .filter((m) => m.text !== null && m.text.trim() !== '')
      .map((m) => ({ role: m.direction === 'in' ? 'user' : 'assistant', content: m.text as string }));
    if (turns.length === 0) return; // media only: nothing to answer in words
    const text = await model.reply({ system, turns, signal: stop.signal });
    if (text === '') return;
    logger.info({ event: 'smart_reply_generated', tenant: message.tenant, channel: message.channel }, 'auto-reply');
    const outgoing: TransportMessage = {
      tenant: message.tenant,
      channel: message.channel,
      to,
      text,
      client_msg_id: `auto:${message.message_id}`.slice(0, 128),
    };
    let target: ReturnType<typeof resolveTarget>;
    try {
      target = resolveTarget(message.channel, to);
    } catch (error) {
      if (!(error instanceof InvalidTargetError)) throw error;
      logger.warn({ event: 'smart_reply_skipped', reason: 'invalid_target', tenant: message.tenant }, 'auto-reply');
      return;
    }
    const out = await deps.outbox.send(outgoing, target, 'auto_reply');
    logger.info(
      {
        event: 'smart_reply_enqueued',
        tenant: message.tenant,
        channel: message.channel,
        status: out.status,
        result: out.body.ok === true ? 'sent' : out.body.error,
      },
      'auto-reply',
    );
  }

  return {
    configured: deps.model !== undefined,
    handle(message, link) {
      const model = deps.model;
      if (model === undefined || stop.signal.aborted) return;
      const job = answer(message, link, model).catch((err: unknown) => {
        // Only the error's code and message: never the request (the key is in its headers) or the conversation.
        const e = err as { code?: unknown; message?: unknown };
        logger.warn(
          { event: 'smart_reply_failed', tenant: message.tenant, code: e.code, error: String(e.message ?? err) },
          'auto-reply failed',
        );
      });
      running.add(job);
      void job.finally(() => running.delete(job));
    },
    async idle() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
    async close() {
      stop.abort();
      await this.idle();
    },
  };
}
