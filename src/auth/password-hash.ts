import * as argon2 from 'argon2';

export interface HashCost {
  memoryKib: number;
  timeCost: number;
}

/** argon2id, the one password hash of the system (service and CLI alike). */
export function hashPassword(password: string, cost: HashCost): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id, memoryCost: cost.memoryKib, timeCost: cost.timeCost, parallelism: 1 });
}
