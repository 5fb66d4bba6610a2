// Preloaded (`node --import`) into each process npm start runs: when npm start itself is gone (SIGKILL, the
// OOM killer) the process stops as if it had got SIGTERM, draining, instead of running on as an orphan that
// still holds the data folder's database and spool. Plain JS: it runs before any TypeScript loader.
const parentPid = Number(process.env.WXGATE_PARENT_PID)
if (Number.isSafeInteger(parentPid) && parentPid > 1) {
  const CHECK_MS = 500
  const watch = setInterval(() => {
    // An orphan is adopted by init or a subreaper, so its parent pid changes.
    if (process.ppid === parentPid) return
    clearInterval(watch)
    process.kill(process.pid, 'SIGTERM')
  }, CHECK_MS)
  // The watch never keeps a process alive that is done otherwise.
  watch.unref()
}
