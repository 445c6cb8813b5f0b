/**
 * A URL-valued setting as a message may show it: the password of its user info, every query value and the fragment
 * replaced by `***` (`redis://:***@127.0.0.1:99999`, `postgres://me:***@db/x?sslpassword=***`). Query values go too
 * because clients read credentials from them (ioredis `?password=`, libpq `?sslpassword=`). The user name stays: it
 * helps to tell which account failed and is not a credential.
 *
 * It works on text, not through `new URL`, because a setting is printed exactly when it is wrong (a port of 99999, a
 * missing scheme) and then does not parse. Linear in the input, no regular expression.
 */
export function redactUrlCredentials(text: string): string {
  const scheme = text.indexOf('://');
  const start = scheme === -1 ? 0 : scheme + 3;
  // The user info ends at the last `@` before the query: a password typed with an unescaped `/` or `@` in it (a
  // setting that is wrong) must still be hidden whole, so `/` does not end the search.
  let end = text.length;
  for (let i = start; i < text.length; i += 1) {
    if (text[i] === '?' || text[i] === '#') {
      end = i;
      break;
    }
  }
  const beforeQuery = text.slice(start, end);
  const at = beforeQuery.lastIndexOf('@');
  let out = text.slice(0, start);
  if (at === -1) {
    out += beforeQuery;
  } else {
    const userInfo = beforeQuery.slice(0, at);
    const colon = userInfo.indexOf(':');
    out += (colon === -1 ? userInfo : `${userInfo.slice(0, colon)}:***`) + beforeQuery.slice(at);
  }

  const rest = text.slice(end);
  const hash = rest.indexOf('#');
  const query = hash === -1 ? rest : rest.slice(0, hash);
  if (query.length > 0) {
    out += `?${query.slice(1).split('&').map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? pair : `${pair.slice(0, eq)}=***`;
    }).join('&')}`;
  }
  if (hash !== -1) out += '#***';
  return out;
}
