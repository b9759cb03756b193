// Opens the Journey for a command and subscribes what listens to it. The classroom reporter is
// the one subscriber; it is imported only when a command emits an event and a class is joined.
import { Journey, type JourneyOptions } from '../engine/journey.ts';

export function openJourney(opts: JourneyOptions): Journey {
  return Journey.open(opts);
}
