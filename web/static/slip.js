// The slip's print button prints the page; slip.css prints only the slip.
document.getElementById("print-slip").addEventListener("click", () => window.print());
