// Public surface of api/ (re-exported by ../index.ts).
export {}
