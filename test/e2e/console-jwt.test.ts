/**
 * Sign-in with `AUTH_MODE=jwt` in the browser, keyboard only: a wrong token is refused on the page
 * and sets nothing; a good one is kept in the `sc_token` cookie (HttpOnly, SameSite=Strict, so
 * the page's script cannot read it and other sites' requests do not carry it), and the page's
 * RPC calls and event stream are authenticated by that cookie alone.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { openView, waitForLive, waitForText } from '../../scripts/lib/console-page.js';
import { type ConsoleRig, endScenario, startRig } from '../support/console-e2e.js';
import { describeWithRedis } from '../support/redis.js';

const SECRET = randomBytes(32).toString('base64');

function token(sub: string, secret = SECRET): Promise<string> {
  return new SignJWT({ roles: [] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

describeWithRedis(
  'console: jwt sign-in keeps the token in an HttpOnly SameSite=Strict cookie',
  function () {
    this.timeout(60_000);
    let rig: ConsoleRig;

    before(async function () {
      rig = await startRig(this, 1, { AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
    });

    after(async () => {
      await rig?.stop();
    });

    it('refuses a wrong token, then signs in by cookie and goes live', async () => {
      const { page, context } = await rig.tab();
      await page.goto(`${rig.cluster.members[0]!.url}/`);
      const signInWith = async (text: string) => {
        await page.getByTestId('signin-token').focus();
        await page.keyboard.press('ControlOrMeta+A');
        await page.keyboard.insertText(text);
        await page.keyboard.press('Tab');
        expect(
          await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
        ).to.equal('signin-submit');
        await page.keyboard.press('Enter');
      };

      await signInWith(await token('gary', randomBytes(32).toString('base64')));
      expect(await waitForText(page, 'signin-error')).to.match(/\S/);
      expect(await context.cookies(), 'a refused token sets no cookie').to.deep.equal([]);

      await signInWith(await token('gary'));
      await waitForLive(page);
      expect(await waitForText(page, 'whoami')).to.include('gary');
      const cookie = (await context.cookies()).find((c) => c.name === 'sc_token');
      expect(cookie, 'the sc_token cookie').not.to.equal(undefined);
      expect({ httpOnly: cookie!.httpOnly, sameSite: cookie!.sameSite }).to.deep.equal({
        httpOnly: true,
        sameSite: 'Strict',
      });
      expect(await page.evaluate(() => document.cookie), 'not readable by script').not.to.include(
        'sc_token',
      );

      // the cookie alone authenticates the page's calls: a move goes through and comes back live
      await openView(page, 'field');
      await page.getByTestId('move-left').click();
      await page.waitForFunction(
        () =>
          Number(
            document.querySelector('[data-testid="own-position"]')?.getAttribute('data-version'),
          ) >= 1,
        undefined,
        { timeout: 15_000 },
      );
      await endScenario(rig, 'jwt', [/status of 401 \(Unauthorized\)/]);
    });
  },
);
