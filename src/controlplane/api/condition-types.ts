/**
 * The condition vocabulary the API writes and clients read. A leaf module (no
 * imports) so the CLI can use it without loading the model.
 */
export const ACCEPTED = 'Accepted';
export const INVALID = 'Invalid';
export const MISSING_REFERENCE = 'MissingReference';
