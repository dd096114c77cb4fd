// A standard OpenID Connect server for gtoken's tests: panva's oidc-provider, configured only.
// One confidential native client (loopback redirects on any port), one account, and consent that
// completes by itself: /interaction/:uid signs in as the account and grants what was asked.
// Usage: node server.mjs CLIENT_ID CLIENT_SECRET; prints "listening on http://127.0.0.1:PORT".
import http from 'node:http';
import Provider from 'oidc-provider';

const [clientId, clientSecret] = process.argv.slice(2);
const account = { sub: 'ada-0001', email: 'ada@example.com', email_verified: true };

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'client_secret_post',
    }],
    scopes: ['openid', 'offline_access', 'email', 'read', 'calendar'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (ctx, id) => ({ accountId: id, claims: () => ({ ...account, sub: id }) }),
    ttl: { AccessToken: Number(process.env.ACCESS_TOKEN_TTL || 3600) },
  });
  provider.proxy = false;

  const oidc = provider.callback();
  server.on('request', async (req, res) => {
    const match = req.url.match(/^\/interaction\/([^/?]+)/);
    if (!match) return oidc(req, res);
    try {
      const { prompt, params } = await provider.interactionDetails(req, res);
      if (prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: account.sub, clientId: params.client_id });
      if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
      if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.statusCode = 500;
      res.end(String(err));
    }
  });
  process.stdout.write(`listening on ${issuer}\n`);
});
