// Public surface of pay-v2/ (re-exported by ../index.ts).
export {}
