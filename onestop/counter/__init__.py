"""The clerk's counter terminal (窗口叫号终端): its page, its JSON reads and its static files."""
