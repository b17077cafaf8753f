export interface PasswordPolicySettings {
  minLength: number;
  maxLength: number;
}

// A short list of the passwords tried first in every credential-stuffing run.
const COMMON = new Set([
  'password', 'password1', 'password123', '123456789012', 'qwertyuiop', 'letmein', 'welcome', 'iloveyou',
  'administrator', 'changeme', 'passw0rd', 'p@ssw0rd', 'qwerty123456', 'abc123456789', 'correcthorsebatterystaple',
]);

/**
 * NIST SP 800-63B style: length over composition rules, no common or personal passwords.
 * Returns the problems, empty when the password is acceptable.
 */
export function passwordProblems(password: string, settings: PasswordPolicySettings, personal: string[] = []): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < settings.minLength) problems.push(`password must be at least ${settings.minLength} characters`);
  if (length > settings.maxLength) problems.push(`password must be at most ${settings.maxLength} characters`);
  const lower = password.toLowerCase();
  if (COMMON.has(lower)) problems.push('password is too common');
  if (/^(.)\1*$/u.test(password)) problems.push('password must not repeat one character');
  for (const part of personal.map((p) => p.toLowerCase()).filter((p) => p.length >= 4)) {
    if (lower.includes(part)) {
      problems.push('password must not contain your name or e-mail address');
      break;
    }
  }
  return problems;
}
