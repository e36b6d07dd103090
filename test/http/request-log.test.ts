// Request logs never hold a deletion link's token, however the path that reached it is spelled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskedUrl } from '../../src/http/request-log.js';

describe('the URL a request is logged with', () => {
  it('masks the token of a deletion link, as sent or with its letters escaped or its slashes doubled', () => {
    assert.equal(maskedUrl('/d/abc/SECRET'), '/d/abc/[token]');
    assert.equal(maskedUrl('/d/abc/SECRET?x=1'), '/d/abc/[token]?x=1');
    assert.equal(maskedUrl('/%64/abc/SECRET'), '/%64/abc/[token]');
    assert.equal(maskedUrl('/%64/%61bc/SECRET/'), '/%64/%61bc/[token]/');
    assert.equal(maskedUrl('//d//abc//SECRET'), '//d//abc//[token]');
  });

  it('leaves every other path as it is', () => {
    for (const url of ['/', '/i/abc', '/imgs/abc/orig', '/api/images/abc', '/d', '/d/abc', '/dd/abc/x', '/x/d/abc/y']) {
      assert.equal(maskedUrl(url), url);
    }
  });
});
