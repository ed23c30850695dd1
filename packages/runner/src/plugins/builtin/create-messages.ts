import { success } from '../../execute/result.js';
import type { Json } from '../../json/value.js';
import { builtinError, requireString, type Builtin } from './types.js';

export const createMessages: Builtin = {
  name: 'create_messages',
  description: 'Build a chat message list from optional system instructions and a user prompt',
  async execute(input) {
    const user = requireString('create_messages', input, 'user_prompt');
    const system = input.system_instructions;
    if (system !== undefined && system !== null && typeof system !== 'string') {
      throw builtinError('create_messages', 'input.system_instructions: expected a string');
    }
    const messages: Json[] = [];
    if (typeof system === 'string') messages.push({ role: 'system', content: system });
    messages.push({ role: 'user', content: user });
    return success({ messages });
  },
};
