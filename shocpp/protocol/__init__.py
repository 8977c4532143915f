"""The pure core: OCPP-J in, replies and effects out. No files, clocks, processes or sockets here."""
