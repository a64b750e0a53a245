import { describe, expect, it } from 'vitest';
import { jobView, mergeJob, type JobLike } from '../app/utils/job-view';

describe('job row', () => {
  it('says done only for a job backend reported as succeeded', () => {
    expect(jobView({ status: 'succeeded', progress: 0.95 })).toEqual({
      state: 'succeeded',
      percent: 100,
      showBar: false,
      done: true,
    });
    for (const status of ['running', 'queued', 'failed', 'done', 'completed', undefined])
      expect(jobView({ status, progress: 0.95 }).done, String(status)).toBe(false);
  });

  it('never shows a running job at 100 %, nor a bar once it has finished', () => {
    expect(jobView({ status: 'running', progress: 0.995 })).toMatchObject({
      state: 'running',
      percent: 99,
      showBar: true,
    });
    expect(jobView({ status: 'running', progress: 1 }).percent).toBe(99);
    expect(jobView({ status: 'running', progress: 0.4 }).percent).toBe(40);
    expect(jobView({ status: 'running' }).percent).toBe(0);
    expect(jobView({ status: 'queued', progress: 0.3 })).toMatchObject({
      state: 'queued',
      percent: 0,
      showBar: true,
    });
    expect(jobView({ status: 'failed', progress: 0.95 })).toMatchObject({
      state: 'failed',
      percent: 95,
      showBar: false,
      done: false,
    });
    expect(jobView({ status: 'running', progress: -1 }).percent).toBe(0);
  });

  it('reads an unknown status as still running, never as finished', () => {
    expect(jobView({ status: 'done', progress: 0.95 })).toMatchObject({ state: 'running', percent: 95 });
  });
});

describe('merging live frames into a job', () => {
  it('takes newer progress and the final status', () => {
    let j = mergeJob<JobLike>(undefined, { status: 'running', progress: 0.5 });
    j = mergeJob(j, { status: 'running', progress: 0.95 });
    expect(j).toEqual({ status: 'running', progress: 0.95 });
    j = mergeJob(j, { status: 'succeeded', progress: undefined });
    expect(j).toEqual({ status: 'succeeded', progress: 0.95 });
    expect(jobView(j)).toMatchObject({ done: true, percent: 100 });
  });

  it('does not let a late progress frame reopen a finished job', () => {
    const done = mergeJob<JobLike>(
      { status: 'succeeded', progress: 1 },
      { status: 'running', progress: 0.95 },
    );
    expect(done).toEqual({ status: 'succeeded', progress: 1 });
    const failed = mergeJob<JobLike>(
      { status: 'failed', progress: 0.3, error: 'x' },
      { status: 'running', progress: 0.4 },
    );
    expect(failed.status).toBe('failed');
  });

  it('lets a fresh snapshot that finished override stale live progress', () => {
    expect(
      mergeJob<JobLike>({ status: 'running', progress: 0.95 }, { status: 'succeeded', progress: 1 }),
    ).toEqual({ status: 'succeeded', progress: 1 });
  });
});
