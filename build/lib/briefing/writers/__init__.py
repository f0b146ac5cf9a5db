"""One module per output format, all reading the same semantic HTML.

`registry` names every format the command line offers and the function that
writes it; `subset` states the HTML every writer understands, checked before
anything is written.
"""
