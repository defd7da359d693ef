package pg

// FindServerBinariesIn exposes findServerBinaries, with its pattern for the
// versioned install folders, to the tests.
var FindServerBinariesIn = findServerBinaries

// StmtCacheSize is how many statements a connection keeps prepared.
const StmtCacheSize = stmtCacheSize
