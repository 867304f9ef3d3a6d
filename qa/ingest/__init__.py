"""From a source file to what is indexed: the text a document is read as (`documents`), its lines
and blocks (`layout`), the clutter left out (`clutter`), its title and date (`metadata`), its
sentences (`sentences`) and passages (`passages`). Offsets always point into the text as read."""
