/**
 * The lookups library (R61, R62): autocomplete, address resolution with the recipient verdict,
 * group expansion, and message rules naming directory users and groups. Every function takes the
 * store's Kysely handle; the CLI (src/cli/commands/lookup.ts, message-rules.ts) is a thin layer on it.
 */
export { autocomplete, LOOKUP_KINDS, MAX_LIMIT, MAX_QUERY, type AutocompleteHit, type AutocompleteInput, type AutocompleteResult, type LookupKind, type MatchKind } from './autocomplete.ts';
export { resolveAddress, type AddressHolder, type ConnectionRef, type ResolvedAddress, type ResolveInput, type ShowingContact } from './resolve-address.ts';
export { expandGroup, expandFrom, type ExpandedMember, type ExpandInput, type GroupExpansion, type UnresolvedMember } from './expand-group.ts';
export { findGroup, groupsNamed, type GroupRef } from './find-group.ts';
export { containingGroups, objectsOfAddress, type AnchorRef } from './membership.ts';
export { cycleEdges } from './cycles.ts';
export { recipientVerdict, explainVerdict, type RecipientFacts, type RecipientReason, type RecipientVerdict } from '../core/recipient.ts';
export {
  addMessageRule, deleteMessageRule, listMessageRules, matchMessageRules, showMessageRule, RULE_ACTIONS,
  type MatchInput, type MatchResult, type MessageRuleView, type NewMessageRule, type RuleAction, type RuleMatch, type TargetView,
} from '../store/admin/message-rules.ts';
