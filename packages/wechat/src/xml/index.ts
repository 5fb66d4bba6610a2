// Public surface of xml/ (re-exported by ../index.ts).
export {}
