/** A UUID as the module writes its row ids (lower-case hex, hyphenated): what an id in a path or query must be. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
