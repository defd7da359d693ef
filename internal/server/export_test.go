package server

// LoggedPath exports loggedPath to the tests.
var LoggedPath = loggedPath
