// Opens the Journey for a command and subscribes what listens to it. The classroom reporter is
// the one subscriber; it is imported only when a command emits an event and a class is joined.
import { classReporter } from '../classroom/reporter.ts';
import { Journey, type JourneyOptions } from '../engine/journey.ts';

export function openJourney(opts: JourneyOptions): Journey {
  const journey = Journey.open(opts);
  // One read of WORKSHOP_HOME/classroom.json; no network I/O in the learner's command.
  const reporter = classReporter(opts.home, process.argv[1] ?? null);
  if (reporter) journey.on(reporter);
  return journey;
}
