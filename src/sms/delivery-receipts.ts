import type { DeliveryReceipt } from './sms-provider.interface.js';

/*
 * The delivery reports each vendor posts, read into `{ messageId, delivered }`. A status that is
 * neither final success nor final failure ("sent", "queued", …) yields no receipt: the wait goes on.
 * An event that is not a delivery report (an incoming message on the same webhook) yields nothing.
 */

/** Most receipts read from one post, so a huge body cannot keep the instance busy. */
const MAX_RECEIPTS_PER_POST = 100;

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value.slice(0, MAX_RECEIPTS_PER_POST) : [];
}

/** One receipt when `id` is a non-empty string and `status` one of the final ones. */
function receipt(
  id: unknown,
  status: unknown,
  finals: { delivered: readonly string[]; failed: readonly string[] },
): DeliveryReceipt[] {
  if (typeof id !== 'string' || id === '' || id.length > 200 || typeof status !== 'string') return [];
  if (finals.delivered.includes(status)) return [{ messageId: id, delivered: true }];
  if (finals.failed.includes(status)) return [{ messageId: id, delivered: false }];
  return [];
}

/**
 * Twilio's status callback: form fields `MessageSid` and `MessageStatus` (`delivered`/`read`, or
 * `failed`/`undelivered`), posted to the `StatusCallback` URL of the message.
 * Source: https://www.twilio.com/docs/messaging/guides/track-outbound-message-status
 */
export function twilioReceipts(body: Record<string, unknown>): DeliveryReceipt[] {
  return receipt(body.MessageSid, body.MessageStatus, {
    delivered: ['delivered', 'read'],
    failed: ['failed', 'undelivered'],
  });
}

/**
 * Unifonic's WhatsApp (Conversations) delivery webhook, one JSON event per post, configured once per
 * account under Channels → WhatsApp → Webhook: `{ messageId, eventId, eventType, applicationId,
 * conversationId, recipient: { channel, contact }, timestamp, receivedAt }`, where `messageId` is the
 * `id` the send answered and `eventType` is `message.sent_successfully_to_provider`, `message.sent`,
 * `message.delivered`, `message.read`, or a refusal (`message.rejected`, `message.failed`).
 * Unifonic signs nothing (its webhook settings allow a custom header), so the receipt URL carries the
 * secret `whatsapp.receiptToken` in its path.
 * Sources: https://docs.unifonic.com/docs/message-delivery-status and https://docs.unifonic.com/docs/webhook
 */
export function unifonicReceipts(body: Record<string, unknown>): DeliveryReceipt[] {
  const events = Array.isArray(body) ? list(body) : [body];
  return events.flatMap((event) =>
    receipt(record(event).messageId, record(event).eventType, {
      delivered: ['message.delivered', 'message.read'],
      failed: ['message.rejected', 'message.failed', 'message.undelivered'],
    }),
  );
}

/**
 * Taqnyat's WhatsApp delivery callbacks, set once in the Taqnyat portal: Taqnyat relays the WhatsApp
 * Business statuses of a message (`queued`, `dispatched`, `sent`, `delivered`, `read`, `deleted`,
 * `failed`, `no_opt_in`, `no_capability`) as status objects `{ id, status, timestamp, recipient_id }`
 * whose `id` is the `wamid` the send answered (`messages[0].id`), either in a top-level `statuses`
 * array or inside Meta's Cloud API envelope (`entry[].changes[].value.statuses[]`); it retries a
 * callback up to three times and publishes no signature, so the receipt URL carries the secret
 * `whatsapp.receiptToken` in its path.
 * Sources: https://dev.taqnyat.sa/en/doc/whatsapp/ and Meta's status webhook reference,
 * https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status/
 */
export function taqnyatReceipts(body: Record<string, unknown>): DeliveryReceipt[] {
  const changes = list(body.entry).flatMap((entry) => list(record(entry).changes));
  const statuses = [
    ...list(body.statuses),
    ...changes.flatMap((change) => list(record(record(change).value).statuses)),
  ].slice(0, MAX_RECEIPTS_PER_POST);
  return statuses.flatMap((status) =>
    receipt(record(status).id, record(status).status, {
      delivered: ['delivered', 'read'],
      failed: ['failed', 'deleted', 'no_opt_in', 'no_capability'],
    }),
  );
}
