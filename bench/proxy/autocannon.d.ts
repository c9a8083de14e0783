// autocannon ships no type declarations; run.ts types the few parts it uses (AcResult, AcInstance).
declare module 'autocannon';
