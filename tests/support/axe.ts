/**
 * axe-core's audit of the page as it is now: the serious and critical violations, one line each (rule,
 * impact, the first elements it names), so a test can expect [] and still say what is wrong. A run that
 * applied almost no rules (an empty or half-loaded page) throws: it must not pass as clean.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const MIN_RULES = 20;

export async function seriousAxeViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const { rules, violations } = await page.evaluate(async () => {
    type Result = { id: string; impact: string; nodes: { target: string[] }[] };
    const axe = (
      window as unknown as {
        axe: {
          run: (c: Document, o: object) => Promise<Record<'violations' | 'passes' | 'incomplete', Result[]>>;
        };
      }
    ).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return {
      rules: r.violations.length + r.passes.length + r.incomplete.length,
      violations: r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${v.id} (${v.impact}): ${v.nodes
              .slice(0, 3)
              .map((n) => n.target.join(' '))
              .join(', ')}`,
        ),
    };
  });
  if (rules < MIN_RULES)
    throw new Error(`axe-core applied only ${rules} rules to ${page.url()}: the page was not there to audit`);
  return violations;
}
