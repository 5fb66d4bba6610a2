// Public surface of crypto/ (re-exported by ../index.ts).
export {}
