// Debian's chromium is the only browser this project uses: puppeteer's own download cannot work offline.
module.exports = { skipDownload: true, executablePath: process.env.PUPPETEER_EXECUTABLE_PATH || '/usr/bin/chromium' };
