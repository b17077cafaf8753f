import { Foundation1764380000000 } from './1764380000000-Foundation';

/** Every migration, in order. Listed explicitly so the compiled service and the tests load the same set. */
export const MIGRATIONS = [Foundation1764380000000];
