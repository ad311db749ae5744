import { describe, test as it, assert } from '../../test/helpers/unit.ts';
import { foldText, foldWords, prefixUpperBound } from './fold.ts';

describe('foldText (R61: case- and accent-insensitive lookups)', () => {
  it('removes accents and case', () => {
    assert.equal(foldText('José MÜLLER'), 'jose muller');
    assert.equal(foldText('Ærøskøbing Straße'), 'aeroskobing strasse');
    assert.equal(foldText('Łódź'), 'lodz');
    assert.equal(foldText('ﬁle'), 'file'); // compatibility ligature
  });
  it('leaves plain ASCII alone', () => {
    assert.equal(foldText('john.smith@example.com'), 'john.smith@example.com');
  });
});

describe('foldWords', () => {
  it('splits on non-letters, folds and dedupes in order', () => {
    assert.deepEqual(foldWords('Smith, John (Sales)', 'John', null, 'Smíth'), ['smith', 'john', 'sales']);
    assert.deepEqual(foldWords('', null, undefined), []);
  });
});

describe('prefixUpperBound', () => {
  it('bounds every string with the prefix and nothing after (byte order, as SQLite and C collation compare)', () => {
    const hi = prefixUpperBound('jo');
    for (const s of ['jo', 'joe', 'jozzz', 'jo\u00e9']) assert.ok(s >= 'jo' && s < hi, s);
    assert.ok(!('jp' < hi));
  });
});
