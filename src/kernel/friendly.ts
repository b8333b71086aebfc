// The one text a chat user reads when something failed: never internal error text (that stays
// in the event log with the request id).

/** A turn failed (provider down, a bug, a refused tool …). */
export const FRIENDLY_FAILURE = 'Sorry, something went wrong while I was answering. Please try again in a moment.';

/** A queued request failed for good after its retries (late answer). */
export const FRIENDLY_LATE_FAILURE = 'Sorry, I could not complete your earlier request. Please try again later.';
