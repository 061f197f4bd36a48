#!/usr/bin/env node
console.log('opsctl placeholder');
