import type { RedirectParams } from '../ami/ami-client.js';

/** Moves a live channel to another dialplan target; the AMI implementation is below, others can be plugged in. */
export interface ChannelRedirector {
  /** Moves the channel; rejects when the PBX refused or did not answer. */
  redirect(target: RedirectParams): Promise<void>;
}

/** Redirects through the AMI `Redirect` action (any client with a compatible `redirect`, e.g. `createAmiClient`). */
export function createAmiChannelRedirector(ami: {
  redirect(params: RedirectParams): Promise<unknown>;
}): ChannelRedirector {
  return {
    async redirect(target) {
      await ami.redirect(target);
    },
  };
}
