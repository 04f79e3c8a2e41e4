import { describe, expect, it } from '@jest/globals';
import { taqnyatReceipts, twilioReceipts, unifonicReceipts } from '../../src/sms/delivery-receipts.js';

describe('Twilio status callbacks', () => {
  it.each([
    ['delivered', true],
    ['read', true],
    ['failed', false],
    ['undelivered', false],
  ])('reads MessageStatus=%s', (status, delivered) => {
    expect(twilioReceipts({ MessageSid: 'SM1', MessageStatus: status })).toEqual([{ messageId: 'SM1', delivered }]);
  });

  it('reads nothing from an interim status or a body without a sid', () => {
    expect(twilioReceipts({ MessageSid: 'SM1', MessageStatus: 'sent' })).toEqual([]);
    expect(twilioReceipts({ MessageStatus: 'delivered' })).toEqual([]);
  });
});

describe('Unifonic WhatsApp delivery events', () => {
  it.each([
    ['message.delivered', true],
    ['message.read', true],
    ['message.rejected', false],
    ['message.failed', false],
  ])('reads eventType %s', (eventType, delivered) => {
    expect(unifonicReceipts({ messageId: 'b322a549', eventType, recipient: { channel: 'whatsapp' } })).toEqual([
      { messageId: 'b322a549', delivered },
    ]);
  });

  it('reads nothing from sent events, incoming messages or malformed bodies', () => {
    expect(unifonicReceipts({ messageId: 'b322a549', eventType: 'message.sent_successfully_to_provider' })).toEqual([]);
    expect(unifonicReceipts({ messageId: 'b322a549', eventType: 'message.sent' })).toEqual([]);
    expect(unifonicReceipts({ eventType: 'message.delivered' })).toEqual([]);
    expect(unifonicReceipts({ messageId: 42, eventType: 'message.delivered' })).toEqual([]);
    expect(unifonicReceipts({ messageId: 'x'.repeat(201), eventType: 'message.delivered' })).toEqual([]);
  });
});

describe('Taqnyat WhatsApp statuses', () => {
  const status = (id: unknown, value: unknown) => ({ id, status: value, timestamp: '1750857384' });

  it('reads a top-level statuses array', () => {
    expect(
      taqnyatReceipts({
        statuses: [status('wamid.A', 'delivered'), status('wamid.B', 'no_opt_in'), status('wamid.C', 'dispatched')],
      }),
    ).toEqual([
      { messageId: 'wamid.A', delivered: true },
      { messageId: 'wamid.B', delivered: false },
    ]);
  });

  it("reads Meta's Cloud API envelope", () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [{ changes: [{ value: { statuses: [status('wamid.A', 'read'), status('wamid.B', 'failed')] } }] }],
    };
    expect(taqnyatReceipts(body)).toEqual([
      { messageId: 'wamid.A', delivered: true },
      { messageId: 'wamid.B', delivered: false },
    ]);
  });

  it('reads nothing from incoming messages or malformed envelopes, and at most 100 statuses a post', () => {
    expect(taqnyatReceipts({ entry: [{ changes: [{ value: { messages: [{ id: 'wamid.in' }] } }] }] })).toEqual([]);
    expect(taqnyatReceipts({ entry: 'x', statuses: { id: 'wamid.A', status: 'delivered' } })).toEqual([]);
    const many = Array.from({ length: 150 }, (_, i) => status(`wamid.${i}`, 'delivered'));
    expect(taqnyatReceipts({ statuses: many })).toHaveLength(100);
  });
});
