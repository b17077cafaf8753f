import { passwordProblems } from './password-policy';

describe('passwordProblems', () => {
  const settings = { minLength: 12, maxLength: 64 };

  it('accepts a long passphrase', () => {
    expect(passwordProblems('correct horse battery staple 42', settings)).toEqual([]);
    expect(passwordProblems('x'.repeat(11) + 'y', settings)).toEqual([]);
  });

  it('refuses one that is too short or too long, with the configured limits', () => {
    expect(passwordProblems('short pass', settings)).toEqual(['password must be at least 12 characters']);
    expect(passwordProblems('ab'.repeat(33), settings)).toEqual(['password must be at most 64 characters']);
    expect(passwordProblems('ab'.repeat(32), settings)).toEqual([]);
    expect(passwordProblems('eight ch', { minLength: 8, maxLength: 16 })).toEqual([]);
  });

  it('counts characters, not UTF-16 code units', () => {
    const elevenEmoji = '🙂😀🙂😀🙂😀🙂😀🙂😀🙂';
    expect(elevenEmoji.length).toBe(22);
    expect(passwordProblems(elevenEmoji, settings)).toEqual(['password must be at least 12 characters']);
    expect(passwordProblems(elevenEmoji + '😀', settings)).toEqual([]);
  });

  it('refuses common passwords whatever their case', () => {
    expect(passwordProblems('CorrectHorseBatteryStaple', settings)).toEqual(['password is too common']);
    expect(passwordProblems('qwerty123456', settings)).toEqual(['password is too common']);
    expect(passwordProblems('Administrator', settings)).toEqual(['password is too common']);
  });

  it('refuses one character repeated', () => {
    expect(passwordProblems('aaaaaaaaaaaaaaa', settings)).toEqual(['password must not repeat one character']);
    expect(passwordProblems('🙂'.repeat(13), settings)).toEqual(['password must not repeat one character']);
  });

  it('refuses a password containing a personal value of four or more characters, case-insensitively', () => {
    expect(passwordProblems('my name is JoSmith, hello', settings, ['jo.smith', 'josmith'])).toEqual([
      'password must not contain your name or e-mail address',
    ]);
    // Reported once even when several personal values match.
    expect(passwordProblems('janet.jones forever', settings, ['janet.jones', 'Janet'])).toEqual([
      'password must not contain your name or e-mail address',
    ]);
    // Short personal values are ignored: they would refuse too much.
    expect(passwordProblems('jo likes long passphrases', settings, ['Jo', 'abc'])).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(passwordProblems('aaaa', settings)).toEqual(['password must be at least 12 characters', 'password must not repeat one character']);
  });
});
