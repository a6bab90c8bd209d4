from onethread.cli import app

app(prog_name="onethread")
