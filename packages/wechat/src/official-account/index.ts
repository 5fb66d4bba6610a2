// Public surface of official-account/ (re-exported by ../index.ts).
export {}
