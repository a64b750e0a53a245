import { describe, expect, it } from 'vitest';
import { interpretEvent } from '../app/utils/events';

describe('SSE event interpretation', () => {
  it('marks a job running on progress frames, without a toast', () => {
    expect(interpretEvent('job.progress', '{"id":"j1","kind":"backtest","progress":0.4}')).toEqual({
      type: 'job',
      job: { id: 'j1', kind: 'backtest', progress: 0.4, status: 'running', error: undefined },
      toast: null,
    });
  });
  it('toasts when a job succeeds or fails', () => {
    expect(interpretEvent('job.done', '{"id":"j1","kind":"backtest","status":"succeeded"}')).toMatchObject({
      toast: 'done',
      job: { status: 'succeeded' },
    });
    expect(
      interpretEvent('job.done', '{"id":"j2","kind":"export","status":"failed","error":"no data"}'),
    ).toMatchObject({ toast: 'failed', job: { error: 'no data' } });
  });
  it('reads the pattern name and matched stock from an alert', () => {
    const data = JSON.stringify({
      id: 'n1',
      patternId: 'p1',
      patternName: 'AAPL dip',
      match: { code: 'MSFT', start: '2018-01-02', end: '2018-02-01', distance: 2.1 },
      asOf: '2018-02-07',
    });
    expect(interpretEvent('alert.fired', data)).toEqual({
      type: 'alert',
      patternName: 'AAPL dip',
      code: 'MSFT',
      asOf: '2018-02-07',
    });
    expect(interpretEvent('alert.fired', '{}')).toEqual({
      type: 'alert',
      patternName: null,
      code: null,
      asOf: null,
    });
  });
  it('ignores malformed frames and unknown event types', () => {
    expect(interpretEvent('job.done', 'not json')).toBeNull();
    expect(interpretEvent('job.done', '[1,2]')).toBeNull();
    expect(interpretEvent('job.done', '{"kind":"backtest"}')).toBeNull();
    expect(interpretEvent('something.else', '{"id":"x"}')).toBeNull();
  });
});
