// The browser entry point: index.html loads this module through its import map.
import './app.js'
