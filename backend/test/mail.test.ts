import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMlStandIn, type MlStandIn } from './support/ml-stand-in.js';
import { simpleParser } from 'mailparser';
import { registered, startApp, type TestApp } from './support/harness.js';

/** Just enough SMTP (RFC 5321 happy path) to receive what nodemailer sends. */
async function startSmtp(): Promise<{ port: number; messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server: Server = createServer((sock) => {
    let inData = false;
    let buf = '';
    sock.write('220 test ESMTP\r\n');
    sock.on('data', (chunk) => {
      buf += chunk.toString('utf8');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          messages.push(buf.slice(0, end));
          buf = buf.slice(end + 5);
          inData = false;
          sock.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') sock.write('250 test\r\n');
        else if (cmd === 'DATA') {
          inData = true;
          sock.write('354 go\r\n');
        } else if (cmd === 'QUIT') sock.end('221 bye\r\n');
        else sock.write('250 ok\r\n');
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
  return {
    port: (server.address() as AddressInfo).port,
    messages,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

describe('mail', () => {
  let ml: MlStandIn;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let app: TestApp;
  beforeAll(async () => {
    ml = await startMlStandIn();
    smtp = await startSmtp();
    app = await startApp({
      ML_URL: ml.url,
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      PUBLIC_URL: 'https://resemble.example',
    });
  });
  afterAll(async () => {
    await app.close();
    await smtp.close();
    await ml.close();
  });

  it('sends the verification and reset links through SMTP when SMTP_URL is set', async () => {
    const c = app.client();
    expect(
      (await c.post('/api/v1/auth/register', { email: 'mail@example.com', password: 'a fine long secret' }))
        .status,
    ).toBe(201);
    await c.post('/api/v1/auth/forgot', { email: 'mail@example.com' });
    const deadline = Date.now() + 5000;
    while (smtp.messages.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // Bodies arrive quoted-printable: undo soft line breaks and =XX escapes.
    const all = smtp.messages
      .join('\n')
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    expect(all).toMatch(/To: mail@example\.com/);
    expect(all).toMatch(/https:\/\/resemble\.example\/verify-email\?token=/);
    expect(all).toMatch(/https:\/\/resemble\.example\/reset-password\?token=/);
  });

  it('emails an alert when a saved pattern matches after a data refresh', async () => {
    const c = await registered(app, 'alerts@example.com');
    const co = await c.post('/api/v1/billing/checkout', { plan: 'pro', provider: 'sandbox' });
    await c.post('/api/v1/billing/sandbox/complete', {
      session: new URL(co.body.redirectUrl, 'http://x').searchParams.get('session'),
      outcome: 'success',
    });
    const query = { query: { code: 'AAA', start: '2015-02-01', end: '2015-03-15' }, topK: 5, horizon: 10 };
    expect(
      (await c.post('/api/v1/patterns', { name: 'my breakout', request: query, threshold: 1000 })).status,
    ).toBe(201);
    const before = smtp.messages.length;
    ml.setDataVersion('v-mail');
    expect((await app.services.alerts.tick())?.fired).toBe(1);
    const deadline = Date.now() + 5000;
    while (smtp.messages.length === before && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(smtp.messages.length).toBe(before + 1);
    // Parsed as a mail client would (headers, encoded-word subject, quoted-printable UTF-8 body).
    const mail = await simpleParser(smtp.messages[before]!.replace(/\r\n\.\./g, '\r\n.'));
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.text : '').toBe('alerts@example.com');
    const notes = (await c.get('/api/v1/notifications')).body;
    const code = notes.notifications[0].payload.match.code as string;
    expect(mail.subject).toBe(`Resemble アラート / alert: my breakout (${code}, 2016-02-04)`);
    // Both languages name the data date and link to the alerts page.
    expect(mail.text).toMatch(/データ日付 2016-02-04/);
    expect(mail.text).toContain(`A chart resembling your saved pattern "my breakout" was found:\n${code},`);
    expect(mail.text).toMatch(/on data as of 2016-02-04/);
    expect(mail.text).toMatch(/https:\/\/resemble\.example\/app\/patterns/);
    // The same alert is in the app's notifications list, with the same data date.
    expect(notes.unread).toBe(1);
    expect(notes.notifications[0].payload).toMatchObject({
      patternName: 'my breakout',
      asOf: '2016-02-04',
      dataVersion: 'v-mail',
      match: { code: expect.stringMatching(/^[A-Z]{3}$/) },
    });
  });
});
