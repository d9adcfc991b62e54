from pusher.cli import run

run()
