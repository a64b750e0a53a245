/**
 * Finding a stock by code or name (issue 13, decision 086). Ranks, in order: the exact code, code
 * prefixes, name prefixes, name substrings, then Latin names whose every query word matches a name word
 * exactly, as a prefix or within a typo (MiniSearch's radix tree of name words, SearchableMap, with its
 * Levenshtein walk). Every comparison is on folded text: NFKC (full- and half-width forms, so ｷｵｸｼｱ reads
 * as キオクシア and ７２０３ as 7203), lower case, and hiragana mapped to katakana (so とよた finds トヨタ自動車).
 */
import SearchableMap from 'minisearch/SearchableMap';

export interface SearchEntry {
  code: string;
  /** Every name the entity goes by (Japanese, English, display); empty ones are ignored. */
  names: readonly (string | null | undefined)[];
  /** Ties inside a tier go to the lower value first (e.g. listed before delisted). */
  order?: number;
}

const HIRAGANA_FIRST = 0x3041;
const HIRAGANA_LAST = 0x3096;
const KATAKANA_SHIFT = 0x60;

/** NFKC, lower case, hiragana as katakana: the form every query and name is compared in. */
export function foldText(s: string): string {
  const n = s.normalize('NFKC').toLowerCase();
  let out = '';
  for (const ch of n) {
    const c = ch.codePointAt(0)!;
    out += c >= HIRAGANA_FIRST && c <= HIRAGANA_LAST ? String.fromCodePoint(c + KATAKANA_SHIFT) : ch;
  }
  return out;
}

/**
 * Folded text without spaces and the punctuation that names are written with or without ("トヨタ 自動車",
 * "Coca-Cola", "S&P"), so a prefix or substring does not depend on them.
 */
export function compactText(folded: string): string {
  return folded.replace(/[\s\p{P}\p{S}]+/gu, '');
}

const LATIN_TERM = /^[a-z0-9]+$/;
/**
 * Edits (Levenshtein) allowed in one Latin query word: none below 4 letters (too many near misses) or for
 * numbers, 1 up to 7 letters, 2 from 8. Swapped neighbours ("Appel" for "Apple") count as one typo:
 * they are looked up as exact variants (transpositions), which costs a few index lookups where a
 * second edit for every word would cost a much wider fuzzy walk of the index.
 */
export function typoBudget(term: string): number {
  if (!LATIN_TERM.test(term) || /^\d+$/.test(term)) return 0;
  return term.length < 4 ? 0 : term.length < 8 ? 1 : 2;
}

/** The word with one pair of neighbouring letters swapped, every way (distinct, not the word itself). */
export function transpositions(term: string): string[] {
  const out = new Set<string>();
  for (let i = 0; i + 1 < term.length; i++) {
    if (term[i] === term[i + 1]) continue;
    out.add(term.slice(0, i) + term[i + 1]! + term[i]! + term.slice(i + 2));
  }
  return [...out];
}

const Tier = { exactCode: 0, codePrefix: 1, namePrefix: 2, nameSubstring: 3, typo: 4 } as const;
export type MatchTier = keyof typeof Tier;
const TIER_NAMES = Object.keys(Tier) as MatchTier[];

interface Folded {
  code: string;
  /** Compact folded names, and the folded words of each name (for word-start substrings). */
  names: string[];
  words: string[];
  order: number;
}

export interface SearchHit {
  /** Index of the entry in the list the index was built from. */
  index: number;
  tier: MatchTier;
}

/** A search index over a fixed list of entries; build once per data version. */
export class EntityIndex {
  private readonly folded: Folded[];
  /** Latin code or name word -> the entries (indices, ascending) whose code or names contain it. */
  private readonly latinWords = new SearchableMap<number[]>();

  constructor(entries: readonly SearchEntry[]) {
    this.folded = entries.map((e) => {
      const names = [...new Set(e.names.filter((n): n is string => !!n && n.trim() !== '').map(foldText))];
      return {
        code: foldText(e.code),
        names: names.map(compactText).filter((n) => n !== ''),
        words: names.flatMap((n) => n.split(/[\s\p{P}\p{S}]+/u)).filter((w) => w !== ''),
        order: e.order ?? 0,
      };
    });
    // Codes too: a mistyped ticker (APPL) is a typo like a mistyped name, and its closest code (AAPL) is
    // what a user who followed a wrong link wants offered.
    this.folded.forEach((e, i) => {
      for (const w of [e.code, ...e.words]) {
        if (!LATIN_TERM.test(w)) continue;
        const ids = this.latinWords.get(w);
        if (!ids) this.latinWords.set(w, [i]);
        else if (ids[ids.length - 1] !== i) ids.push(i);
      }
    });
  }

  get size(): number {
    return this.folded.length;
  }

  /** At most `limit` hits, best first; an empty query lists entries in their order. */
  search(q: string, limit: number): SearchHit[] {
    const f = foldText(q.trim());
    const c = compactText(f);
    if (c === '' && f.trim() === '') {
      return this.folded.slice(0, limit).map((_, index) => ({ index, tier: 'exactCode' as MatchTier }));
    }
    // [tier, sub-rank inside the tier, entry order, index]
    const ranked: [number, number, number, number][] = [];
    const seen = new Set<number>();
    for (let i = 0; i < this.folded.length; i++) {
      const e = this.folded[i]!;
      let tier = -1;
      let sub = 0;
      if (e.code === f || (c !== '' && e.code === c)) tier = Tier.exactCode;
      else if (e.code.startsWith(f) || (c !== '' && e.code.startsWith(c))) tier = Tier.codePrefix;
      else if (c !== '') {
        for (const n of e.names) {
          if (n.startsWith(c)) {
            tier = Tier.namePrefix;
            // The shorter name is the closer match ("トヨタ" is more likely トヨタ自動車 than a longer name).
            sub = n.length;
            break;
          }
          if (n.includes(c)) {
            tier = Tier.nameSubstring;
            // A word that starts with the query beats a match in the middle of a word.
            sub = e.words.some((w) => w.startsWith(c)) ? 0 : 1;
          }
        }
      }
      if (tier >= 0) {
        ranked.push([tier, sub, e.order, i]);
        seen.add(i);
      }
    }
    ranked.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2] || x[3] - y[3]);
    const hits: SearchHit[] = ranked
      .slice(0, limit)
      .map(([tier, , , index]) => ({ index, tier: TIER_NAMES[tier]! }));
    if (hits.length < limit) {
      for (const index of this.typoMatches(f)) {
        if (seen.has(index)) continue;
        hits.push({ index, tier: 'typo' });
        if (hits.length >= limit) break;
      }
    }
    return hits;
  }

  /**
   * Entries whose names have, for every Latin word of the query, a word equal to it (cost 0), starting
   * with it (3+ letters; cost 0), within its typo budget (cost: the edits) or equal to it with two
   * neighbours swapped (cost 1); least total cost first, then entry order. Empty when no query word may
   * carry a typo: the exact tiers have found all there is.
   */
  private typoMatches(folded: string): number[] {
    const words = folded.split(/[^a-z0-9]+/).filter((w) => w !== '');
    if (!words.some((w) => typoBudget(w) > 0)) return [];
    let total: Map<number, number> | null = null;
    for (const w of words) {
      const cost = new Map<number, number>();
      const add = (ids: number[] | undefined, c: number) => {
        for (const i of ids ?? []) if (!(cost.get(i)! <= c)) cost.set(i, c);
      };
      add(this.latinWords.get(w), 0);
      if (w.length >= 3) for (const [, ids] of this.latinWords.atPrefix(w)) add(ids, 0);
      const budget = typoBudget(w);
      if (budget > 0) {
        for (const [, [ids, d]] of this.latinWords.fuzzyGet(w, budget)) add(ids, d);
        for (const t of transpositions(w)) add(this.latinWords.get(t), 1);
      }
      if (total === null) total = cost;
      else {
        const next = new Map<number, number>();
        for (const [i, c] of total) {
          const more = cost.get(i);
          if (more !== undefined) next.set(i, c + more);
        }
        total = next;
      }
      if (total.size === 0) return [];
    }
    return [...total!]
      .sort((x, y) => x[1] - y[1] || this.folded[x[0]]!.order - this.folded[y[0]]!.order || x[0] - y[0])
      .map(([i]) => i);
  }
}
