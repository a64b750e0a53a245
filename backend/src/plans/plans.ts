/** Plans live in code + config (price and free quota from env); entitlements derive from them. */
import type { PlanId } from '@resemble/contracts';
import type { Config } from '../config.js';

export interface Plan {
  id: PlanId;
  name: string;
  priceJpy: number;
  interval: 'month' | null;
  features: {
    dtw: boolean;
    brainjs: boolean;
    backtests: boolean;
    patterns: boolean;
    csvExport: boolean;
    apiTokens: boolean;
  };
  limits: {
    searchesPerDay: number | null;
    maxTopK: number;
    metrics: ('zned' | 'dtw')[];
    models: ('analogue' | 'baseline' | 'brainjs')[];
    ratePerMinute: number;
    searchBudgetMs: number;
  };
}

export function buildPlans(config: Pick<Config, 'plans' | 'rateLimits'>): Record<PlanId, Plan> {
  return {
    free: {
      id: 'free',
      name: 'Free',
      priceJpy: 0,
      interval: null,
      features: {
        dtw: false,
        brainjs: false,
        backtests: false,
        patterns: false,
        csvExport: false,
        apiTokens: false,
      },
      limits: {
        searchesPerDay: config.plans.freeSearchesPerDay,
        maxTopK: 5,
        metrics: ['zned'],
        models: ['analogue', 'baseline'],
        ratePerMinute: config.rateLimits.perUserPerMinute,
        searchBudgetMs: config.plans.searchBudgetFreeMs,
      },
    },
    pro: {
      id: 'pro',
      name: 'Pro',
      priceJpy: config.plans.proPriceJpy,
      interval: 'month',
      features: {
        dtw: true,
        brainjs: true,
        backtests: true,
        patterns: true,
        csvExport: true,
        apiTokens: true,
      },
      limits: {
        searchesPerDay: null,
        maxTopK: 100,
        metrics: ['zned', 'dtw'],
        models: ['analogue', 'baseline', 'brainjs'],
        ratePerMinute: config.rateLimits.perUserPerMinute,
        searchBudgetMs: config.plans.searchBudgetProMs,
      },
    },
  };
}

export type Feature = keyof Plan['features'];
